export * from './context-assembler';
export * from './tokenizer';
export * from './context-messages';
