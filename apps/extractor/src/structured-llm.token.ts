/** The extractor's LLM (undefined with LLM_PROVIDER=local: extraction is then off). */
export const STRUCTURED_LLM = Symbol('STRUCTURED_LLM');
