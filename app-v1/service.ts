// v1, the old app: reads and writes only the old columns. It knows nothing of profile_data, and keeps
// working before and after the expand migration because it never names the new column.
import type { UsersRepository } from '../shared/db/users-repository.ts';
import type { UserService } from '../shared/http/user-routes.ts';

export function oldColumnsService(users: UsersRepository): UserService {
  return {
    create: (fields) => users.insertOld(fields),
    async update(id, fields) {
      return (await users.updateOld(id, fields)) ? { id, fields } : null;
    },
    patch: (id, patch) => users.patchOld(id, patch),
    delete: (id) => users.deleteRow(id),
    async lookup(value, limit, reads) {
      return { users: await users.findByLookupOld(value, limit, reads) };
    },
    async get(id, reads) {
      const user = await users.findOld(id, reads);
      return user ? { user } : null;
    },
  };
}
