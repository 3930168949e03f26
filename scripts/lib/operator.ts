// Who runs a client command: the name an operator's decision is logged under unless --by names another.
import { userInfo } from 'node:os';

export function operatorName(): string {
  try {
    return userInfo().username || 'operator';
  } catch {
    return process.env.USER ?? 'operator';
  }
}
