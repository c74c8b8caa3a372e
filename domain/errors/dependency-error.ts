import { AppError } from './app-error';

/** A dependency we need is down: 503, so clients retry rather than treat it as their fault. */
export class DependencyUnavailableError extends AppError {
  constructor(dependency: string, message: string, options?: { cause?: unknown }) {
    super(503, 'dependency_unavailable', message, { dependency }, options);
  }
}
