/**
 * Draws the Teams app icons (a shield with a tick) and writes them to appPackage/:
 * `npx tsx scripts/make-icons.ts`. Teams wants a 192x192 full-colour icon and a 32x32 outline
 * that is white on transparent: https://learn.microsoft.com/microsoftteams/platform/concepts/build-and-test/apps-package#app-icons
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePng, type RgbaImage } from './png';

type Point = readonly [number, number];
type Rgb = readonly [number, number, number];

/** The app's accent colour, also `accentColor` in the manifest. */
export const ACCENT_COLOR = '#0F6E8C';

const ACCENT: Rgb = [0x0f, 0x6e, 0x8c];
const WHITE: Rgb = [0xff, 0xff, 0xff];
const SHIELD_SHADE: Rgb = [0xdd, 0xee, 0xf3];

/** The shield outline on a 24-unit grid: a peak at the top, straight sides, curved flanks to a point. */
function traceShield(): Point[] {
  const cubic = (p0: Point, p1: Point, p2: Point, p3: Point, steps: number): Point[] =>
    Array.from({ length: steps + 1 }, (_, i) => {
      const t = i / steps;
      const u = 1 - t;
      return [
        u * u * u * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t * t * t * p3[0],
        u * u * u * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t * t * t * p3[1],
      ] as const;
    });
  const rightFlank = cubic([20, 11], [20, 16.1], [16.6, 20.8], [12, 22], 48);
  const leftFlank = rightFlank.map(([x, y]) => [24 - x, y] as const).reverse();
  return [[12, 2], [20, 5], ...rightFlank, ...leftFlank.slice(1), [4, 5]];
}

const SHIELD = traceShield();
// Local copies: under jest's vm sandbox every global lookup in these hot loops is many times slower.
const { hypot, max, min, round } = Math;
const TICK: Point[] = [[7.9, 12.4], [10.9, 15.4], [16.4, 9.6]];

function isInsideShield(x: number, y: number): boolean {
  if (x < 4 || x > 20 || y < 2 || y > 22) return false;
  let inside = false;
  for (let i = 0, j = SHIELD.length - 1; i < SHIELD.length; j = i++) {
    const a = SHIELD[i] as Point;
    const b = SHIELD[j] as Point;
    if (a[1] > y !== b[1] > y && x < ((b[0] - a[0]) * (y - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
  }
  return inside;
}

function measureDistanceToPath(x: number, y: number, path: readonly Point[], closed: boolean): number {
  let best = Number.MAX_VALUE;
  const last = closed ? path.length : path.length - 1;
  for (let i = 0; i < last; i++) {
    const a = path[i] as Point;
    const b = path[(i + 1) % path.length] as Point;
    const dx = b[0] - a[0];
    const dy = b[1] - a[1];
    const t = max(0, min(1, ((x - a[0]) * dx + (y - a[1]) * dy) / (dx * dx + dy * dy)));
    best = min(best, hypot(x - (a[0] + t * dx), y - (a[1] + t * dy)));
  }
  return best;
}

/**
 * Paints a bitmap by supersampling: `shade` maps a point on the 24-unit grid to a colour, or
 * `undefined` for transparent, and each pixel averages `samples x samples` points, which anti-aliases every edge.
 */
function paint(size: number, unitsToPixels: number, samples: number, shade: (x: number, y: number) => Rgb | undefined): RgbaImage {
  const data = new Uint8Array(size * size * 4);
  const offset = (size - 24 * unitsToPixels) / 2;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let red = 0;
      let green = 0;
      let blue = 0;
      let covered = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const rgb = shade((px + (sx + 0.5) / samples - offset) / unitsToPixels, (py + (sy + 0.5) / samples - offset) / unitsToPixels);
          if (!rgb) continue;
          red += rgb[0];
          green += rgb[1];
          blue += rgb[2];
          covered++;
        }
      }
      const i = (py * size + px) * 4;
      data[i] = covered ? round(red / covered) : 0;
      data[i + 1] = covered ? round(green / covered) : 0;
      data[i + 2] = covered ? round(blue / covered) : 0;
      data[i + 3] = round((covered / (samples * samples)) * 255);
    }
  }
  return { width: size, height: size, data };
}

/** Draws the full-colour icon: a white shield with an accent-coloured tick on an accent background. */
export function drawColorIcon(size = 192): RgbaImage {
  return paint(size, (size * 0.62) / 20, 4, (x, y) => {
    if (!isInsideShield(x, y) || measureDistanceToPath(x, y, TICK, false) <= 1.15) return ACCENT;
    return x < 12 ? WHITE : SHIELD_SHADE;
  });
}

/** Draws the outline icon: the shield's edge and the tick in white, everything else transparent. */
export function drawOutlineIcon(size = 32): RgbaImage {
  const icon = paint(size, size / 24, 8, (x, y) => {
    const onEdge = isInsideShield(x, y) && measureDistanceToPath(x, y, SHIELD, true) <= 1.7;
    return onEdge || measureDistanceToPath(x, y, TICK, false) <= 1.1 ? WHITE : undefined;
  });
  // Teams rejects an outline icon with any colour but white, so transparent pixels are white too.
  for (let i = 0; i < icon.data.length; i += 4) icon.data.fill(0xff, i, i + 3);
  return icon;
}

/** Writes color.png and outline.png into the given folder. */
export function writeIcons(folder: string): void {
  writeFileSync(join(folder, 'color.png'), encodePng(drawColorIcon()));
  writeFileSync(join(folder, 'outline.png'), encodePng(drawOutlineIcon()));
}

if (require.main === module) {
  const folder = join(__dirname, '..', 'appPackage');
  writeIcons(folder);
  console.log(`Wrote color.png and outline.png to ${folder}.`);
}
