export * from './rule-document-store';
