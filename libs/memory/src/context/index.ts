export * from './context-assembler';
export * from './tokenizer';
export * from './context-messages';
export * from './memory-context';
