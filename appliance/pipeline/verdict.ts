// Stage 6, verdict: the main class of one recipient's copy, and what to do with it.
//
// The class comes from the strongest finding, in this order:
//   Virus → recipient block list → lock lists (Locked: held in the quarantine, whatever the rules)
//   → lists (block / delete / allow = Whitelisted) → malformed (Error)
//   → too large to scan (Unknown, with the oversize action) → DMARC failure under p=reject /
//   p=quarantine (Phish) → spam score (Spam, Phish, Unsure, Not Spam; Unknown without a scorer).
// The action is the first entry for that class (accept when none) of `filtering.rules`, or for
// outbound mail of `filtering.outboundRules` when set (a hosting company may reject outbound spam
// so the customer's server notices, where inbound spam is quarantined), except where a finding
// forces one: a condition-block list deletes, an auto-quarantine list and an SPF "NG" result
// (with action quarantine) quarantine, a honoured DMARC policy rejects or quarantines.
// A message that could not be virus-scanned (clamd down, fail-open configured) is never called
// "Not Spam": it becomes Unknown.
import type { Filtering } from '../config/schema.ts';
import type { MainClass } from '../message/message.ts';
import type { Disposition, Findings, MessageContext } from './message-context.ts';
import type { ListDecision } from './lists.ts';

export interface Verdict {
  mainClass: MainClass;
  disposition: Disposition;
  /** Subject tags, in order. */
  tags: string[];
  why: string[];
}

const ACTION_TO_DISPOSITION = { accept: 'deliver', tag: 'deliver', quarantine: 'quarantine', reject: 'reject', delete: 'delete' } as const;

export function classFromScore(f: Findings, cfg: Filtering): MainClass {
  const spam = f.spam;
  if (!spam || spam.classHint === 'Unknown') return 'Unknown';
  if (spam.score >= cfg.spamThreshold) return spam.classHint === 'Phish' ? 'Phish' : 'Spam';
  if (spam.score >= cfg.unsureThreshold) return 'Unsure';
  return 'Not Spam';
}

/** The rule list in force, and the name the explanation gives it. */
interface Rules { list: Filtering['rules']; name: string }

function applyRule(v: Verdict, rules: Rules): void {
  const rule = rules.list.find((r) => r.class === v.mainClass);
  if (!rule) {
    v.disposition = 'deliver';
    return;
  }
  v.disposition = ACTION_TO_DISPOSITION[rule.action];
  if (rule.action === 'tag') v.tags.push(rule.tag ?? `${v.mainClass.toUpperCase().replace(/\s+/g, '-')}!!`);
  v.why.push(`${rules.name} for ${v.mainClass}: ${rule.action}`);
}

export function decide(f: Findings, list: ListDecision | undefined, cfg: Filtering, direction: MessageContext['direction']): Verdict {
  const v: Verdict = { mainClass: 'Unknown', disposition: 'deliver', tags: [], why: [] };
  const rules: Rules = direction === 'outbound' && cfg.outboundRules ? { list: cfg.outboundRules, name: 'outbound rule' } : { list: cfg.rules, name: 'rule' };
  const av = f.antivirus;
  if (av?.status === 'infected') {
    v.mainClass = 'Virus';
    v.why.push(`virus found: ${av.virus}`);
    applyRule(v, rules);
    return v;
  }
  if (list?.effect === 'refuse') {
    v.mainClass = 'Blacklisted';
    v.disposition = 'reject';
    v.why.push(`recipient is on the ${list.hit.scope} recipient block list (${list.hit.value})`);
    return v;
  }
  if (list?.effect === 'lock') {
    v.mainClass = 'Locked';
    v.disposition = 'quarantine';
    v.why.push(`held: the ${list.hit.kind === 'sender-lock' ? 'sender' : 'recipient'} is locked by the ${list.hit.scope}-level list of ${list.hit.owner} (${list.hit.value})`);
    return v;
  }
  if (list && list.effect !== 'quarantine') {
    const where = `${list.hit.scope}-level ${list.hit.kind} list of ${list.hit.owner} (${list.hit.value})`;
    if (list.effect === 'allow') {
      v.mainClass = 'Whitelisted';
      v.why.push(`allowed by the ${where}`);
      applyRule(v, rules);
    } else {
      v.mainClass = 'Blacklisted';
      v.why.push(`blocked by the ${where}`);
      if (list.effect === 'delete') {
        v.disposition = 'delete';
        v.why.push('condition block lists delete silently');
      } else {
        applyRule(v, rules);
      }
    }
    return v;
  }

  if (f.oversize !== undefined) {
    v.mainClass = 'Unknown';
    v.disposition = cfg.oversize.action;
    v.why.push(`larger than ${f.oversize} bytes, so not scanned: ${cfg.oversize.action} (filtering.oversize)`);
    return v;
  }

  let forced: Disposition | undefined;
  const dmarc = f.auth?.dmarc;
  if (f.parse && !f.parse.ok) {
    v.mainClass = 'Error';
    v.why.push(f.parse.error ?? 'the message is malformed');
  } else if (dmarc?.result === 'fail' && dmarc.policy === 'reject' && cfg.dmarc.honourReject) {
    v.mainClass = 'Phish';
    forced = 'reject';
    v.why.push(`DMARC fails for ${dmarc.domain} and its policy is reject`);
  } else if (dmarc?.result === 'fail' && dmarc.policy === 'quarantine' && cfg.dmarc.honourQuarantine) {
    v.mainClass = 'Phish';
    forced = 'quarantine';
    v.why.push(`DMARC fails for ${dmarc.domain} and its policy is quarantine`);
  } else {
    v.mainClass = classFromScore(f, cfg);
    if (f.spam && f.spam.classHint !== 'Unknown') v.why.push(`spam score ${f.spam.score.toFixed(2)}%`);
    else v.why.push(f.spam?.error ?? 'no spam scorer');
  }
  if (v.mainClass === 'Not Spam' && av?.status === 'failed') {
    v.mainClass = 'Unknown';
    v.why.push(`not virus-scanned: ${av.error}`);
  }
  applyRule(v, rules);
  if (forced) v.disposition = forced;

  const spf = f.auth?.spf;
  if (spf?.ng && cfg.spf.action !== 'none') {
    v.why.push(`SPF ${spf.result} for ${spf.domain || 'the sender'}: ${cfg.spf.action}`);
    if (cfg.spf.action === 'tag') v.tags.push(cfg.spf.tag);
    else if (v.disposition === 'deliver') v.disposition = 'quarantine';
  }
  if (list?.effect === 'quarantine') {
    v.why.push(`auto-quarantined by the ${list.hit.scope}-level list of ${list.hit.owner} (${list.hit.value})`);
    if (v.disposition !== 'reject') v.disposition = 'quarantine';
  }
  return v;
}
