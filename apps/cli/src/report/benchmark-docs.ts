import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../stack/stack';

/**
 * Writes docs/benchmarks/<name>.json and .md, the committed figures: only benchmarks run with --write-docs
 * call this, so a run never overwrites them by accident. Returns the paths written, relative to the repository.
 */
export function writeBenchmarkDocs(name: string, report: unknown, markdown: string): string[] {
  const dir = join(repoRoot(), 'docs', 'benchmarks');
  mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    [join(dir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`],
    [join(dir, `${name}.md`), markdown.endsWith('\n') ? markdown : `${markdown}\n`],
  ];
  for (const [file, text] of files) writeFileSync(file, text);
  return files.map(([file]) => relative(repoRoot(), file));
}
