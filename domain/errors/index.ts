export { AppError } from './app-error';
export { ValidationError, type FieldProblem } from './validation-error';
export { NotFoundError } from './not-found-error';
export { ForbiddenError } from './forbidden-error';
export { UnauthorizedError } from './unauthorized-error';
export { ConflictError } from './conflict-error';
export { DependencyUnavailableError } from './dependency-error';
