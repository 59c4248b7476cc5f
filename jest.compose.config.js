/** The compose end-to-end test: run by scripts/compose-e2e.sh (root, podman, built images), never by `npm test`. */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/compose/**/*.e2e.ts'],
  testTimeout: 300000,
};
