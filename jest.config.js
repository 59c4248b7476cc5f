/** Tests run TypeScript through ts-jest (transpile only, isolatedModules: `npm run build` type-checks). */
module.exports = {
  testEnvironment: 'node',
  rootDir: '.',
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  // libs/client is also an ES module package, whose relative imports name the .js they compile to.
  moduleNameMapper: { '^@app/memory(.*)$': '<rootDir>/libs/memory/src$1', '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 60000,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  // A suite that leaks a handle (a child process a timed-out hook went on to start) must not keep CI waiting after
  // the run: jest says it forced the exit, and the results stand.
  forceExit: true,
};
