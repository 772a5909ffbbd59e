import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

/**
 * The house rule: the layers are the top-level folders, and a lower layer never imports a higher one.
 * `app/` composes everything; `bot/` and `tab/` are the Teams surfaces; `usecases/` tell the stories;
 * `identity/` sits on `records/` and `graph/`; `school/` is pure rules; `infra/` is the floor.
 */
const RANK: Record<string, number> = {
  app: 5,
  bot: 4,
  tab: 4,
  usecases: 3,
  identity: 2,
  records: 1,
  graph: 1,
  school: 1,
  infra: 0,
};

const ROOT = resolve(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'public' || name === 'node_modules' ? [] : sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

function layerOf(path: string): string | undefined {
  const top = relative(ROOT, path).split(sep)[0]!;
  return top in RANK ? top : undefined;
}

/** Every relative import in a file, resolved to the top-level folder it lands in. */
function importedLayers(file: string): { specifier: string; layer: string }[] {
  const text = readFileSync(file, 'utf8');
  const found: { specifier: string; layer: string }[] = [];
  for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    const layer = layerOf(resolve(file, '..', match[1]!));
    if (layer) found.push({ specifier: match[1]!, layer });
  }
  return found;
}

describe('the layers', () => {
  const files = Object.keys(RANK).flatMap((layer) => {
    try {
      return sourceFiles(join(ROOT, layer));
    } catch {
      return [];
    }
  });

  it('finds the product code to check', () => {
    expect(files.length).toBeGreaterThan(100);
  });

  it('a lower layer never imports a higher one', () => {
    const upward = files.flatMap((file) => {
      const own = layerOf(file)!;
      return importedLayers(file)
        .filter(({ layer }) => RANK[layer]! > RANK[own]!)
        .map(({ specifier }) => `${relative(ROOT, file)} imports ${specifier}`);
    });
    expect(upward).toEqual([]);
  });

  it('the two Teams surfaces, the bot and the tab, do not import each other', () => {
    const across = files.flatMap((file) => {
      const own = layerOf(file)!;
      if (own !== 'bot' && own !== 'tab') return [];
      return importedLayers(file)
        .filter(({ layer }) => (layer === 'bot' || layer === 'tab') && layer !== own)
        .map(({ specifier }) => `${relative(ROOT, file)} imports ${specifier}`);
    });
    expect(across).toEqual([]);
  });
});
