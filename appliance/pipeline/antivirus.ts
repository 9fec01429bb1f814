// Stage 3, antivirus: the whole raw message through clamd (INSTREAM), so clamd's own MIME and
// archive decoders see every attachment, zip files included. A failed scan is recorded as
// "failed", never as clean; what a failure means for the message (451 or class Error) is decided
// by the pipeline from `filtering.antivirus.onFailure`.
import { scan, type ClamdTarget } from './clamd-client.ts';
import type { StageContext } from './message-context.ts';

export async function antivirusStage(sc: StageContext, opts: { enabled: boolean; target: ClamdTarget; timeoutMs: number }): Promise<void> {
  if (!opts.enabled) {
    sc.findings.antivirus = { status: 'skipped' };
    return;
  }
  const result = await scan(opts.target, { data: sc.raw }, opts.timeoutMs);
  sc.findings.antivirus = result.status === 'infected'
    ? { status: 'infected', virus: result.virus }
    : result.status === 'failed' ? { status: 'failed', error: result.error } : { status: 'clean' };
}
