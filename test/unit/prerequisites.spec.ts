import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** The README's one-line prerequisites and .ci/run's installs must not drift apart: a fresh machine follows the README. */
describe("the README's prerequisites", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
  const line = /^sudo apt-get install -y (.+)$/m.exec(readme)?.[1].split(/\s+/) ?? [];
  const installedByCi = [...ci.matchAll(/need_apt\+=\(([\w-]+)\)/g)].map((m) => m[1]);

  it('are one apt-get line, installed by .ci/run as well', () => {
    expect(line).toEqual(expect.arrayContaining(['redis-server', 'prometheus', 'chromium', 'tmux']));
    expect(line.filter((pkg) => !installedByCi.includes(pkg))).toEqual([]);
  });

  it('cover everything .ci/run installs for the tests (docker-compose only serves its static checks)', () => {
    expect(installedByCi.filter((pkg) => !line.includes(pkg))).toEqual(['docker-compose']);
  });
});
