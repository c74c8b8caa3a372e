import { AppError } from './app-error';

export class ForbiddenError extends AppError {
  constructor(code: 'forbidden_role' | 'forbidden_tenant' | 'forbidden_actor', message: string, details?: unknown) {
    super(403, code, message, details);
  }
}
