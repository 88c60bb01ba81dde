export * from './rule-document-store';
export * from './rule-documents.controller';
