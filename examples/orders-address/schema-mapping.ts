// Worked example of a migration only code can do: orders(recipient, address) -> shipping_address {"recipient",
// "street", "postcode", "city"}, keyed by a UUID the app assigns. Select it with MAPPING=orders-address (listed in examples/index.ts).
// The transform is an address parser: SQL could not express it portably (SQLite has no REGEXP, MariaDB's differs
// from MySQL's), so the mapping has no `sql` form, and the rollout runs the backfill and verify in code, with a
// compare-and-set on the old column's exact bytes (shared/backfill/app-side.ts). docs/template.md explains when
// a mapping needs code, and what changes when it does.
//
// Lossless both ways, as every mapping must be (v1 and the way back read the old column from the new one): an
// address the parser cannot split exactly (joining the parts must give back every byte) is kept whole, as
// {"street": <the whole address>, "postcode": null, "city": null}. test/template/orders-address.test.ts checks it.
import { defineMapping } from '../../shared/mapping-contract.ts';

/** The parts of an address line. */
export interface AddressParts {
  street: string;
  /** null (with city null) when the address could not be split exactly: street then holds all of it. */
  postcode: string | null;
  city: string | null;
}

export interface ShippingAddress extends AddressParts {
  recipient: string;
}

/**
 * "<street>, <postcode> <city>": the street is everything up to the LAST comma; the postcode is 4-5 digits (DE,
 * FR, AT, CH, NL digits...) or a UK outward code with its inward code ("NW1 6XE"); the city is the rest.
 */
const POSTCODE = /\d{4,5}|[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}/u;
const ADDRESS = new RegExp(`^(?<street>.+), (?<postcode>${POSTCODE.source}) (?<city>\\S(?:.*\\S)?)$`, 'u');

/** A LIKE pattern that matches `text` literally, with `!` as the escape character (the same in SQLite and MySQL). */
const likeLiteral = (text: string) => text.replace(/[!%_]/g, (c) => `!${c}`);

export function parseAddress(address: string): AddressParts {
  const parts = ADDRESS.exec(address)?.groups;
  if (parts && joinAddress(parts as unknown as AddressParts) === address) {
    return { street: parts.street!, postcode: parts.postcode!, city: parts.city! };
  }
  return { street: address, postcode: null, city: null };
}

export function joinAddress({ street, postcode, city }: AddressParts): string {
  return postcode === null || city === null ? street : `${street}, ${postcode} ${city}`;
}

/**
 * A UK-shaped postcode computed from a sample's tag ("u7-w7" -> "AA9A 9AA" form): one of 1.6 billion, so the values
 * of one run rarely share one, and the load generator skips a tag whose postcode another of its values already has.
 */
export function samplePostcode(tag: string): string {
  // FNV-1a over the tag's code points: the same tag always gives the same postcode.
  let hash = 0x811c9dc5;
  for (const char of tag) hash = Math.imul(hash ^ char.codePointAt(0)!, 0x01000193) >>> 0;
  const pick = (alphabet: string) => {
    const char = alphabet[hash % alphabet.length]!;
    hash = Math.floor(hash / alphabet.length);
    return char;
  };
  const letter = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const digit = '0123456789';
  return `${pick(letter)}${pick(letter)}${pick(digit)}${pick(letter + digit)} ${pick(digit)}${pick(letter)}${pick(letter)}`;
}

export const ordersAddressMapping = defineMapping({
  id: 'orders-address',
  entity: 'order',
  table: 'orders',
  route: '/orders',
  keyColumn: 'id',
  keyType: 'uuid',
  oldColumns: [
    { name: 'recipient', mysqlType: 'VARCHAR(100)', sqliteType: 'TEXT', maxChars: 100 },
    { name: 'address', mysqlType: 'VARCHAR(300)', sqliteType: 'TEXT', maxChars: 300 },
  ],
  newColumn: 'shipping_address',
  // Every generated address parses (a street with the tag, a postcode computed from it), so seeds and load exercise
  // the split, and each write's postcode is its own: the load can look rows up by it (load/proof/generator.ts).
  sample: (tag) => ({ recipient: `Recipient ${tag}`, address: `${tag} Example Street 5, ${samplePostcode(tag)} London` }),
  toNew: (fields): ShippingAddress => ({ recipient: fields.recipient, ...parseAddress(fields.address) }),
  toOld: (shipping) => ({ recipient: shipping.recipient, address: joinAddress(shipping) }),
  parseNew(value): ShippingAddress | null {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    const { recipient, street, postcode, city } = value as Record<string, unknown>;
    if (typeof recipient !== 'string' || typeof street !== 'string') return null;
    // Both parts or neither: a half-split address has no exact way back.
    const whole = postcode === null && city === null;
    if (!whole && (typeof postcode !== 'string' || typeof city !== 'string')) return null;
    const shipping = { recipient, street, postcode: postcode as string | null, city: city as string | null };
    // Only what the parser itself would produce (a whole address that would split is not one): otherwise two
    // JSON values would stand for one address, and verify would call a row in sync "different".
    const reparsed = parseAddress(joinAddress(shipping));
    return reparsed.street === street && reparsed.postcode === shipping.postcode && reparsed.city === shipping.city ? shipping : null;
  },
  // No `sql`: the transform is code only.
  // GET /orders?postcode=10115: the postcode the parser finds in the address (none when it keeps the address
  // whole). Every address the parser splits with this postcode contains ", <postcode> " (street, postcode, city),
  // so that LIKE is a prefilter that never misses one; the app keeps only the rows the parser agrees on.
  lookup: {
    param: 'postcode',
    maxChars: 8,
    pattern: new RegExp(`^(?:${POSTCODE.source})$`, 'u'),
    fromFields: (fields) => parseAddress(fields.address).postcode,
    jsonPath: '$.postcode',
    oldSql: (_dialect, postcode) => ({ where: "address LIKE $1 ESCAPE '!'", params: [`%, ${likeLiteral(postcode)} %`] }),
  },
});
