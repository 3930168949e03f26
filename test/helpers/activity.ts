// Activities run inside an activity context (heartbeats, the activity logger): tests call them through the SDK's
// MockActivityEnvironment rather than relying on the activity to notice it runs outside one.
import { MockActivityEnvironment } from '@temporalio/testing';

export function inActivity<R>(activity: () => Promise<R>): Promise<R> {
  return new MockActivityEnvironment().run(activity);
}
