/** Injection tokens for the shared parts that are interfaces, not classes. */
export const REDIS = Symbol('REDIS');
export const LLM_PROVIDER = Symbol('LLM_PROVIDER');
export const VECTOR_INDEX = Symbol('VECTOR_INDEX');
