import { AppError } from './app-error';

export class UnauthorizedError extends AppError {
  constructor(code: 'missing_token' | 'invalid_token' | 'expired_token', message: string) {
    super(401, code, message);
  }
}
