export * from './context-assembler';
export * from './tokenizer';
