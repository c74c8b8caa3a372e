import { AppError } from './app-error';

export interface FieldProblem {
  field: string;
  message: string;
}

export class ValidationError extends AppError {
  constructor(message: string, problems: FieldProblem[], status = 422) {
    super(status, 'validation_failed', message, { fields: problems });
  }
}
