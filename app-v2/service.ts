// v2's user service: writes through the dual-write strategy, reads through the dual-read policy.
import type { UserService } from '../shared/http/user-routes.ts';
import type { DualReader } from './dual-read.ts';
import type { DualWriter } from './dual-write.ts';

export function dualWriteDualReadService(writer: DualWriter, reader: DualReader): UserService {
  return {
    create: (fields) => writer.create(fields),
    async update(id, fields) {
      return (await writer.update(id, fields)) ? { id, fields } : null;
    },
    async patch(id, patch) {
      const fields = await writer.patch(id, patch);
      return fields ? { id, fields } : null;
    },
    delete: (id) => writer.remove(id),
    get: (id, reads) => reader.read(id, reads),
    lookup: (value, limit, reads) => reader.lookup(value, limit, reads),
  };
}
