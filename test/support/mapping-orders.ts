// Imported FIRST by a test file about the orders-address mapping (examples/orders-address): the active mapping is
// read once per process, when shared/schema-mapping.ts is first imported, and ES modules run their imports in
// order, so this runs before it. Vitest runs each test file in a process of its own (pool forks, isolated), so
// the choice never leaks into another file.
process.env.MAPPING = 'orders-address';
