// The benchmark's SMTP sink: the "customer's mail server" every route points at. Runs as its own
// process (forked with an IPC channel) so its work does not disturb the load generator's timing.
// It accepts everything on 127.0.0.1, keeps no message, and records for each arrival the
// X-Bench-Seq header the load generator stamped, with the arrival time (epoch ms, sub-ms).
// It also counts arrivals carrying a filter's verdict header (X-Mailmoat-Class or rspamd's
// X-Spamd-Result): proof that the filter under test really looked at them.
// IPC: the parent sends "stats" (→ { count, bytes, last, dupes, noSeq, stamped }), "seqs"
// (→ { seqs: [seq, time][] }) or "reset"; on start the sink sends { port }.
import net from 'node:net';

const now = () => performance.timeOrigin + performance.now();
const END = Buffer.from('\r\n.\r\n');
const SEQ = /\r\nX-Bench-Seq: (\d+)\r\n/;
const VERDICT = /\r\nX-(Mailmoat-Class|Spamd-Result):/i;

let arrivals = new Map<number, number>();
let st = { count: 0, bytes: 0, last: 0, dupes: 0, noSeq: 0, stamped: 0 };

function arrived(head: string, bytes: number): void {
  const t = now();
  st.count++; st.bytes += bytes; st.last = t;
  if (VERDICT.test('\r\n' + head)) st.stamped++;
  const m = SEQ.exec('\r\n' + head);
  if (!m) { st.noSeq++; return; }
  const seq = Number(m[1]);
  if (arrivals.has(seq)) st.dupes++;
  arrivals.set(seq, t);
}

const server = net.createServer((sock) => {
  sock.setNoDelay(true);
  let inData = false;
  let pending: Buffer = Buffer.alloc(0);
  let head = '';
  let bytes = 0;
  sock.on('error', () => {});
  sock.write('220 sink.bench ESMTP\r\n');
  sock.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      if (inData) {
        const end = pending.indexOf(END);
        if (end === -1) {
          // keep 4 bytes in case the terminator straddles chunks
          const keep = Math.max(0, pending.length - 4);
          if (head.length < 8192) head += pending.subarray(0, keep).toString('latin1');
          bytes += keep;
          pending = pending.subarray(keep);
          return;
        }
        if (head.length < 8192) head += pending.subarray(0, end).toString('latin1');
        bytes += end;
        arrived(head, bytes);
        sock.write('250 2.0.0 Ok\r\n');
        pending = pending.subarray(end + END.length);
        inData = false;
        continue;
      }
      const nl = pending.indexOf('\n');
      if (nl === -1) return;
      const line = pending.subarray(0, nl).toString('latin1').trim();
      pending = pending.subarray(nl + 1);
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'EHLO') sock.write('250-sink.bench\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 104857600\r\n');
      else if (verb === 'DATA') { sock.write('354 go on\r\n'); inData = true; head = ''; bytes = 0; pending = Buffer.concat([Buffer.from('\r\n'), pending]); }
      else if (verb === 'QUIT') { sock.end('221 2.0.0 Bye\r\n'); return; }
      else if (verb === 'HELO' || verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP') sock.write('250 2.0.0 Ok\r\n');
      else sock.write('502 5.5.2 unknown command\r\n');
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.address() as net.AddressInfo).port });
});

process.on('message', (cmd: string) => {
  if (cmd === 'stats') process.send!({ ...st });
  else if (cmd === 'seqs') process.send!({ seqs: [...arrivals] });
  else if (cmd === 'reset') { arrivals = new Map(); st = { count: 0, bytes: 0, last: 0, dupes: 0, noSeq: 0, stamped: 0 }; process.send!({ reset: true }); }
});
process.on('disconnect', () => process.exit(0));
