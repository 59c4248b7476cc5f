import { WordVectors } from '../../libs/memory/src/embedding/word-vectors';

/**
 * Builds the word-vector cache once before any test (on a fresh checkout it takes a few seconds and ~1 GB), so that
 * the worker processes the tests start all read the ready cache instead of each building it.
 */
export default function globalSetup(): void {
  WordVectors.load();
}
