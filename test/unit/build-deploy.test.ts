import { relative } from 'node:path';
import { productionPackageDirs } from '../../scripts/build-deploy';

// What `npm run build:deploy` packs beside dist/: the installed tree walked from package.json's dependencies.
describe('the deployment zip\'s dependencies', () => {
  const packed = productionPackageDirs().map((dir) => relative(`${__dirname}/../..`, dir).split('\\').join('/'));

  it('holds every production dependency and what it needs', () => {
    for (const name of ['botbuilder', 'restify', '@azure/data-tables', '@azure/storage-blob', '@microsoft/teams-js', 'jose', 'adaptivecards-templating', 'botframework-connector']) {
      expect({ name, packed: packed.includes(`node_modules/${name}`) }).toEqual({ name, packed: true });
    }
    // A transitive dependency, reached through @azure/data-tables.
    expect(packed).toContain('node_modules/@azure/core-rest-pipeline');
  });

  it('holds no test, build or lint tool', () => {
    for (const name of ['jest', 'typescript', 'azurite', 'eslint', 'playwright-core', 'tsx', 'ts-jest', 'nock', 'fast-check', 'yazl']) {
      expect({ name, packed: packed.some((path) => path === `node_modules/${name}` || path.endsWith(`/node_modules/${name}`)) }).toEqual({ name, packed: false });
    }
  });
});
