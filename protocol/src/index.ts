export * from './topics';
export * from './payloads';
export * from './stages';
export * from './auth';
export * from './live';
