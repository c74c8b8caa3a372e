import { AppError } from './app-error';

export class NotFoundError extends AppError {
  constructor(resource: string, id: string) {
    super(404, `${resource}_not_found`, `no ${resource.replace(/_/g, ' ')} with id ${JSON.stringify(id)} in this tenant`, { id });
  }
}
