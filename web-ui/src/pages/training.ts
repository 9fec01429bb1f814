// Training: the admin (or a domain admin) drops .eml / .msg files, or chooses them, to teach the
// spam filter "spam" or "not spam". Each file is uploaded on its own with its progress shown, and
// gets its own result line: the server's text key and parameters, so a line follows the console's
// language when it is switched (the server's own rendering where the key is not known here). Above
// them: how much has been learnt, and what the score's thresholds mean on it.
import { html, nothing } from 'lit';
import { api, getCsrf } from '../api.ts';
import { I18nElement, t } from '../i18n.ts';
import { shared } from '../styles.ts';
import { serverText } from '../validate.ts';
import type { TextParams } from '../../../appliance/i18n/server-messages.ts';

interface Result { ok: boolean; message: string; key?: string; params?: TextParams }
interface Row { name: string; percent: number; done: boolean; result?: Result }
interface Status { spam: number; ham: number; calibration: string }

function upload(file: File, as: string, onProgress: (percent: number) => void): Promise<Result> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/training?as=${as}&filename=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    const csrf = getCsrf();
    if (csrf) xhr.setRequestHeader('x-csrf-token', csrf);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100)); };
    xhr.onload = () => {
      let body: { ok?: boolean; message?: string; key?: string; params?: TextParams; error?: { message: string } } = {};
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON: reported below */ }
      resolve(xhr.status === 200 ? { ok: Boolean(body.ok), message: body.message ?? '', key: body.key, params: body.params }
        : { ok: false, message: `${file.name}: ${body.error?.message ?? xhr.statusText}` });
    };
    xhr.onerror = () => resolve({ ok: false, message: `${file.name}: ${t('error.network')}` });
    xhr.send(file);
  });
}

export class MmTraining extends I18nElement {
  static override properties = { rows: { state: true }, as: { state: true }, over: { state: true }, status: { state: true } };
  declare rows: Row[];
  declare status: Status | null;
  declare as: 'spam' | 'ham';
  declare over: boolean;
  static override styles = [shared];

  constructor() {
    super();
    this.rows = [];
    this.as = 'spam';
    this.over = false;
    this.status = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#loadStatus();
  }

  /** What has been learnt and what the thresholds mean; the page works without it. */
  #loadStatus(): void {
    api<Status>('GET', '/api/training').then((s) => { this.status = s; }, () => { this.status = null; });
  }

  async #send(files: File[]): Promise<void> {
    const as = this.as;
    const start = this.rows.length;
    this.rows = [...this.rows, ...files.map((f) => ({ name: f.name, percent: 0, done: false }))];
    for (const [i, file] of files.entries()) {
      const update = (patch: Partial<Row>) => { this.rows = this.rows.map((r, j) => (j === start + i ? { ...r, ...patch } : r)); };
      const result = await upload(file, as, (percent) => update({ percent }));
      update({ percent: 100, done: true, result });
    }
    this.#loadStatus();
  }

  override render() {
    return html`<h1>${t('training.title')}</h1>
      <section class="card"><p>${t('training.intro')}</p>
        ${this.status ? html`<p class="muted">${t('training.learnt', { spam: this.status.spam, ham: this.status.ham })} ${this.status.calibration}</p>` : nothing}
        <fieldset><legend>${t('training.as')}</legend>
          ${(['spam', 'ham'] as const).map((v) => html`<label class="inline spaced"><input type="radio" name="as" .checked=${this.as === v} @change=${() => { this.as = v; }}> ${t(`training.${v}`)}</label>`)}
        </fieldset>
        <div role="region" aria-label=${t('training.drop')} class=${this.over ? 'dropzone over' : 'dropzone'}
          @dragover=${(e: DragEvent) => { e.preventDefault(); this.over = true; }} @dragleave=${() => { this.over = false; }}
          @drop=${(e: DragEvent) => { e.preventDefault(); this.over = false; void this.#send(Array.from(e.dataTransfer?.files ?? [])); }}>
          <p>${t('training.drop')}</p>
          <label class="inline"><span>${t('training.choose')}</span><input type="file" multiple accept=".eml,.msg,message/rfc822,application/vnd.ms-outlook"
            @change=${(e: Event) => { const input = e.target as HTMLInputElement; void this.#send(Array.from(input.files ?? [])).then(() => { input.value = ''; }); }}></label>
        </div>
        ${this.rows.length ? html`<ul aria-live="polite">${this.rows.map((r) => html`<li>
          ${r.done && r.result ? html`<span class=${r.result.ok ? 'ok' : 'error'}>${r.result.ok ? '✔' : '✖'} ${serverText(r.result)}</span>`
            : html`${r.name} — ${t('training.uploading', { percent: r.percent })} <progress max="100" .value=${r.percent}></progress>`}</li>`)}</ul>` : nothing}
      </section>`;
  }
}
customElements.define('mm-training', MmTraining);
