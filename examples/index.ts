// Every mapping MAPPING can select, one line each (docs/template.md): adapting the template to another table is
// one mapping file beside these and one line here.
import type { SchemaMapping } from '../shared/mapping-contract.ts';
import { ordersAddressMapping } from './orders-address/schema-mapping.ts';
import { splitNameMapping } from './split-name/schema-mapping.ts';
import { usersMapping } from './users.ts';

export const MAPPINGS: readonly SchemaMapping[] = [
  usersMapping,
  splitNameMapping,
  ordersAddressMapping,
];
