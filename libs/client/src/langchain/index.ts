export * from './chat-message-history.js';
export * from './retriever.js';
