export * from './llm-provider';
export * from './local-responder';
export * from './openai-chat';
export * from './create-llm-provider';
export * from './structured-llm';
export * from './openai-structured';
