import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { z } from 'zod';

/**
 * The one validation pipe: parses with a contract schema, answers 400 with
 * `path: message` for each issue (e.g. `maxPoints: Too big: expected number to be <=100000`).
 *
 * In `common/`, below the feature folders whose controllers use it (devices, alerts): must not
 * import any feature folder.
 */
@Injectable()
export class ZodValidationPipe<T extends z.ZodType> implements PipeTransform<unknown, z.infer<T>> {
  constructor(private readonly schema: T) {}

  transform(value: unknown): z.infer<T> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    throw new BadRequestException(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
}
