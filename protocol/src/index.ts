export * from './lib/ids';
export * from './lib/limits';
export * from './lib/topics';
export * from './lib/model';
export * from './lib/decode';
export * from './lib/encode';
export * from './lib/live';
export * from './lib/http';
