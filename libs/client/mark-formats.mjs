// Each build directory says how Node should load its .js files: ESM in dist/esm, CommonJS in dist/cjs.
import { writeFileSync } from 'node:fs';

writeFileSync(new URL('./dist/esm/package.json', import.meta.url), '{ "type": "module" }\n');
writeFileSync(new URL('./dist/cjs/package.json', import.meta.url), '{ "type": "commonjs" }\n');
