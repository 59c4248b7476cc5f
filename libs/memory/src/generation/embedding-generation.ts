import { createHash } from 'node:crypto';
import { PROVIDERS, type MemoryConfig, type ProviderName } from '../config/memory-config';
import { WORD_VECTOR_DIM } from '../embedding/word-vectors';
import { InvalidInputError } from '../errors/invalid-input.error';
import { TURN_FIELDS as F } from '../store/turn';

/** What names an embedding space: `--to local/local/1024`, `--to openai-compatible/BAAI/bge-m3/1024`. */
export interface GenerationSpec {
  provider: ProviderName;
  /** The model (Azure: the deployment); 'local' for the local embedder, which has none. */
  model: string;
  dim: number;
}

/**
 * One embedding space: every stored vector belongs to one. The fingerprint hashes every setting that changes the
 * vectors (provider, model, dimension, and the local embedder's word-vector mix), so two models of one dimension are
 * two generations. `field` is the hash field its vectors are stored in: `embedding` for the first generation of a
 * store (the field every store had before generations), `embedding_<id>` for each one a re-index builds.
 */
export interface EmbeddingGeneration extends GenerationSpec {
  /** The fingerprint's first 12 hex digits: names the field, the RediSearch index and the snapshot files. */
  id: string;
  fingerprint: string;
  field: string;
}

/** Bump when the local embedder's vectors change for the same settings: the stored ones then belong to another space. */
const LOCAL_EMBEDDER_VERSION = 1;

export function configuredSpec(config: MemoryConfig): GenerationSpec {
  const { EMBEDDING_PROVIDER: provider, EMBEDDING_DIM: dim } = config;
  if (provider === 'local') return { provider, model: 'local', dim };
  const model = provider === 'azure' ? (config.AZURE_OPENAI_EMBEDDING_DEPLOYMENT ?? config.EMBEDDING_MODEL) : config.EMBEDDING_MODEL;
  return { provider, model, dim };
}

export function fingerprintOf(spec: GenerationSpec): string {
  const settings =
    spec.provider === 'local'
      ? { version: LOCAL_EMBEDDER_VERSION, wordVectors: spec.dim === WORD_VECTOR_DIM || spec.dim >= 2 * WORD_VECTOR_DIM }
      : {};
  return createHash('sha256').update(JSON.stringify([spec.provider, spec.model, spec.dim, settings])).digest('hex');
}

/** The generation of a spec; `first` stores it in the original `embedding` field. */
export function generationOf(spec: GenerationSpec, first = false): EmbeddingGeneration {
  const fingerprint = fingerprintOf(spec);
  const id = fingerprint.slice(0, 12);
  return { ...spec, id, fingerprint, field: first ? F.embedding : `${F.embedding}_${id}` };
}

/** `provider/model/dim`; the model may itself contain '/' (BAAI/bge-m3). */
export function parseGenerationSpec(text: string): GenerationSpec {
  const parts = text.split('/');
  const provider = parts[0] as ProviderName;
  const dim = Number(parts[parts.length - 1]);
  const model = parts.slice(1, -1).join('/');
  if (parts.length < 3 || !PROVIDERS.includes(provider) || !model || !Number.isInteger(dim) || dim < 8 || dim > 8192) {
    throw new InvalidInputError(`an embedding generation is provider/model/dim with provider one of ${PROVIDERS.join(', ')} and 8 <= dim <= 8192 (e.g. local/local/1024), not '${text}'`);
  }
  if (provider === 'local' && model !== 'local') throw new InvalidInputError(`the local embedder has no model: use local/local/${dim}`);
  return { provider, model, dim };
}

export const describeGeneration = (g: GenerationSpec & { id?: string }): string => `${g.provider}/${g.model}/${g.dim}${g.id ? ` (${g.id})` : ''}`;
