// Each build directory says how Node should load its .js files: ESM in dist/esm, CommonJS in dist/cjs (run from libs/client).
import { writeFileSync } from 'node:fs';

writeFileSync('dist/esm/package.json', '{ "type": "module" }\n');
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
