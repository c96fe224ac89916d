// @cosmjs/tendermint-rpc 0.39 (connectComet) against a real 4-validator cairn
// network, unchanged: every call the client offers for the endpoints cairn serves,
// over HTTP and WebSocket, with the decoded values compared to what the node
// committed (read back as raw JSON over plain HTTP) and to the transactions sent.
//
// The client is installed with npm into a cache folder outside the repository
// ($CAIRN_COSMJS_DIR, else ${XDG_CACHE_HOME:-~/.cache}/cairn-test-cosmjs); when npm
// cannot install it the test prints SKIP with the reason and exits 0.
// Processes are started here and stopped by pid, also on failure.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CAIRN = process.env.CAIRN_BIN || path.join(ROOT, "build", "cairn");
const CHAIN = "cairn-it";
const COSMJS_VERSION = "0.39";
const t0 = Date.now();
const procs = [];
let tmp = null;

function log(...a) {
  console.log(new Date().toISOString().slice(11, 19), ...a);
}

function cleanup() {
  for (const p of procs) {
    if (p.exitCode === null && p.signalCode === null) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {}
    }
  }
  if (tmp && process.env.KEEP !== "1") fs.rmSync(tmp, { recursive: true, force: true });
}
process.on("exit", cleanup);
process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));

function check(cond, msg) {
  if (!cond) throw new Error("check failed: " + msg);
}

const hex = (u8) => Buffer.from(u8).toString("hex").toUpperCase();
const sha256 = (b) => createHash("sha256").update(b).digest();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------ install cosmjs

function installCosmjs() {
  const cache = process.env.CAIRN_COSMJS_DIR ||
    path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "cairn-test-cosmjs");
  const entry = path.join(cache, "node_modules", "@cosmjs", "tendermint-rpc", "build", "index.js");
  const pkg = path.join(cache, "node_modules", "@cosmjs", "tendermint-rpc", "package.json");
  const have = fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, "utf8")).version;
  if (have && have.startsWith(COSMJS_VERSION + ".")) return { entry, version: have };
  fs.mkdirSync(cache, { recursive: true });
  const manifest = path.join(cache, "package.json");
  if (!fs.existsSync(manifest))
    fs.writeFileSync(manifest, JSON.stringify({ name: "cairn-cosmjs-test", private: true }));
  try {
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error",
      `@cosmjs/tendermint-rpc@${COSMJS_VERSION}`], { cwd: cache, stdio: "pipe", timeout: 120000 });
  } catch (e) {
    const why = (e.stderr ? e.stderr.toString() : e.message).trim().split("\n").slice(-3).join(" | ");
    return { skip: `npm could not install @cosmjs/tendermint-rpc@${COSMJS_VERSION}: ${why}` };
  }
  return { entry, version: JSON.parse(fs.readFileSync(pkg, "utf8")).version };
}

// ------------------------------------------------------------ network

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

async function freeBase(span) {
  for (let i = 0; i < 200; i++) {
    // Below the ephemeral range (32768+), where outgoing connections take ports.
    const base = 20000 + 10 * Math.floor(Math.random() * ((32000 - span - 20000) / 10));
    let ok = true;
    for (let p = base; ok && p < base + span; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error("no free port range");
}

async function raw(url, method, params = {}) {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const j = await r.json();
  if (j.error) throw new Error(`${method}: ${JSON.stringify(j.error)}`);
  return j.result;
}

async function height(url) {
  try {
    return Number((await raw(url, "status")).sync_info.latest_block_height);
  } catch {
    return -1;
  }
}

async function waitHeight(url, h, ms = 60000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if ((await height(url)) >= h) return;
    await sleep(200);
  }
  throw new Error(`${url} did not reach height ${h}`);
}

function makeTx(dir, sender, nonce, to, amount) {
  return execFileSync(CAIRN, ["tx", "transfer", "--home", dir, "--from", sender, "--nonce",
    String(nonce), "--chain-id", CHAIN, "--to", to, "--amount", String(amount), "--output",
    "base64"], { encoding: "utf8" }).trim();
}

// Takes the first n events of a stream (with a timeout), then unsubscribes.
function take(stream, n, ms, what) {
  return new Promise((resolve, reject) => {
    const got = [];
    let sub = null;
    const timer = setTimeout(() => {
      if (sub) sub.unsubscribe();
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    sub = stream.subscribe({
      next: (ev) => {
        got.push(ev);
        if (got.length === n) {
          clearTimeout(timer);
          setTimeout(() => sub.unsubscribe(), 0);
          resolve(got);
        }
      },
      error: (e) => {
        clearTimeout(timer);
        reject(e);
      },
      complete: () => {},
    });
  });
}

// ------------------------------------------------------------ the test

async function main() {
  const inst = installCosmjs();
  if (inst.skip) {
    console.log("SKIP test_cosmjs: " + inst.skip);
    return;
  }
  const mod = await import(pathToFileURL(inst.entry).href);
  const cosm = mod.connectComet ? mod : mod.default;
  log(`using @cosmjs/tendermint-rpc ${inst.version}`);

  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-cosmjs-"));
  const base = await freeBase(50);
  execFileSync(CAIRN, ["testnet", "--validators", "4", "--out", tmp, "--base-port", String(base),
    "--chain-id", CHAIN], { stdio: "ignore" });
  for (let i = 0; i < 4; i++) {
    const out = fs.openSync(path.join(tmp, `node${i}`, "node.log"), "a");
    procs.push(spawn(CAIRN, ["start", "--home", path.join(tmp, `node${i}`)],
      { stdio: ["ignore", out, out] }));
  }
  const url0 = `http://127.0.0.1:${base + 1}`;
  const url1 = `http://127.0.0.1:${base + 11}`;
  await waitHeight(url0, 2);
  log("network at height 2");

  const client = await cosm.connectComet(url0);
  check(cosm.isComet38Client(client), "connectComet picked the CometBFT 0.38 client");
  const wsClient = await cosm.connectComet(`ws://127.0.0.1:${base + 11}`);
  // cosmjs 0.39.0 client bug (@cosmjs/socket QueueingStreamingSocket.processQueue):
  // when the socket opens with an empty request queue, isProcessingQueue stays
  // true and every later request waits forever. Queue one request before the
  // socket opens (no await in between), as CometBFT users must do as well.
  const wsFirst = wsClient.status();
  check(cosm.isComet38Client(wsClient), "WebSocket client is Comet38 too");
  check((await wsFirst).nodeInfo.network === CHAIN, "status over WebSocket");

  // status, genesis, validators
  const status = await client.status();
  const rawStatus = await raw(url0, "status");
  check(status.nodeInfo.network === CHAIN, "network");
  check(hex(status.nodeInfo.id) === rawStatus.node_info.id.toUpperCase(), "node id");
  check(status.syncInfo.latestBlockHeight >= 2 && !status.syncInfo.catchingUp, "sync info");
  check(status.validatorInfo.votingPower === 10n, `voting power ${status.validatorInfo.votingPower}`);
  check(hex(status.validatorInfo.address) === rawStatus.validator_info.address, "validator address");
  const genesis = await client.genesis();
  check(genesis.chainId === CHAIN && genesis.validators.length === 4, "genesis");
  const accounts = new Map(genesis.appState.accounts.map((a) => [a.address.toUpperCase(), BigInt(a.balance)]));
  const vals = await client.validators({ height: 1 });
  check(vals.total === 4 && vals.count === 4 && vals.blockHeight === 1, "validators");
  const gAddrs = new Set(genesis.validators.map((v) => hex(v.address)));
  check(vals.validators.every((v) => gAddrs.has(hex(v.address)) && v.votingPower === 10n),
    "validators are the genesis validators");
  const allVals = await client.validatorsAll(1);
  check(allVals.validators.length === 4, "validatorsAll");

  // a transfer through broadcastTxCommit
  const user0 = JSON.parse(fs.readFileSync(path.join(tmp, "keys", "user0.json"), "utf8")).address.toUpperCase();
  const dest = Buffer.from(Array.from({ length: 20 }, () => Math.floor(Math.random() * 256))).toString("hex").toUpperCase();
  const tx1 = Buffer.from(makeTx(tmp, "user0", 0, dest, 11), "base64");
  const c1 = await client.broadcastTxCommit({ tx: tx1 });
  check(c1.checkTx.code === 0 && c1.txResult.code === 0, "broadcastTxCommit codes");
  check(hex(c1.hash) === hex(sha256(tx1)), "commit hash is sha256(tx)");
  check(c1.height > 0, "commit height");
  const h1 = c1.height;
  const ev1 = c1.txResult.events[0];
  check(ev1.type === "transfer" &&
    ev1.attributes.some((a) => a.key === "recipient" && a.value === dest), "tx_result events");
  log("transfer committed at height", h1);
  await waitHeight(url1, h1 + 1);

  log("checking tx and txSearch");
  // tx and txSearch, from the WebSocket client (another node)
  const t1 = await wsClient.tx({ hash: c1.hash });
  check(t1.height === h1 && Buffer.from(t1.tx).equals(tx1) && t1.result.code === 0, "tx");
  const tp = await client.tx({ hash: c1.hash, prove: true });
  check(tp.proof && Buffer.from(tp.proof.data).equals(tx1), "tx proof data");
  check(hex(tp.proof.rootHash) === (await raw(url1, "block", { height: String(h1) })).block.header.data_hash,
    "tx proof root is the block's data_hash");
  const s1 = await client.txSearch({ query: `tx.height=${h1}` });
  check(s1.totalCount === 1 && hex(s1.txs[0].hash) === hex(c1.hash), "txSearch by height");
  const s2 = await client.txSearchAll({ query: `transfer.recipient='${dest}'` });
  check(s2.totalCount === 1 && s2.txs[0].height === h1, "txSearchAll by attribute");

  log("checking blocks");
  // block, blockchain, blockResults, commit, header
  const b1 = await client.block(h1);
  const rb1 = await raw(url1, "block", { height: String(h1) });
  check(hex(b1.blockId.hash) === rb1.block_id.hash, "block id matches node1's block");
  check(b1.block.header.height === h1 && b1.block.header.chainId === CHAIN, "header");
  check(b1.block.txs.length >= 1 && b1.block.txs.some((t) => Buffer.from(t).equals(tx1)), "block txs");
  check(hex(b1.block.header.appHash) === rb1.block.header.app_hash, "app hash");
  check(b1.block.lastCommit && b1.block.lastCommit.height === h1 - 1 || h1 === 1, "last commit");
  const b1first = await client.block(1);
  check(b1first.block.header.height === 1, "block 1 decodes (empty last_block_id)");
  const latest = await client.block();
  check(latest.block.header.height >= h1, "latest block");
  const chain = await client.blockchain(1, 3);
  check(chain.blockMetas.map((m) => m.header.height).join(",") === "3,2,1", "blockchain order");
  for (const m of chain.blockMetas) {
    const r = await raw(url1, "block", { height: String(m.header.height) });
    check(hex(m.blockId.hash) === r.block_id.hash, `blockchain meta ${m.header.height}`);
  }
  const bs = await client.blockSearch({ query: "block.height>=1 AND block.height<=3" });
  check(bs.totalCount === 3 && bs.blocks.map((x) => x.block.header.height).join(",") === "1,2,3",
    "blockSearch");
  check(hex(bs.blocks[2].blockId.hash) === hex(chain.blockMetas[0].blockId.hash), "blockSearch ids");
  const br = await client.blockResults(h1);
  check(br.height === h1 && br.results.length === b1.block.txs.length, "blockResults");
  const idx = b1.block.txs.findIndex((t) => Buffer.from(t).equals(tx1));
  check(br.results[idx].code === 0 && br.results[idx].events[0].type === "transfer", "block result");
  const cm = await client.commit(h1);
  check(cm.canonical === true && cm.header.height === h1, "commit");
  check(hex(cm.commit.blockId.hash) === hex(b1.blockId.hash), "commit block id");
  check(cm.commit.signatures.filter((s) => s.blockIdFlag === 2).length >= 3, "commit signatures");

  log("checking abci");
  // abciInfo and abciQuery with a proof
  const info = await client.abciInfo();
  check(info.data === "cairn-ledger" && info.lastBlockHeight >= h1, "abciInfo");
  const q = await client.abciQuery({ path: "/account", data: Buffer.from(dest, "hex"), prove: true });
  check(q.code === 0 && q.value.length === 17, "abciQuery value");
  check(Buffer.from(q.value).readBigUInt64LE(1) === 11n, "balance 11 after the transfer");
  check(q.proof && q.proof.ops.length === 1 && q.proof.ops[0].type === "cairn:smt:v1", "proof op");
  check(Buffer.from(q.key).equals(Buffer.concat([Buffer.from("a"), Buffer.from(dest, "hex")])), "state key");
  const qs = await client.abciQuery({ path: "/account", data: Buffer.from(user0, "hex") });
  check(Buffer.from(qs.value).readBigUInt64LE(1) === accounts.get(user0) - 11n, "sender balance");
  check(Buffer.from(qs.value).readBigUInt64LE(9) === 1n, "sender nonce");

  log("checking subscriptions");
  // subscriptions over the WebSocket client: new blocks and our tx
  const blocks = take(wsClient.subscribeNewBlock(), 2, 20000, "two NewBlock events");
  const headers = take(wsClient.subscribeNewBlockHeader(), 1, 20000, "a NewBlockHeader event");
  const tx2 = Buffer.from(makeTx(tmp, "user0", 1, dest, 5), "base64");
  const txEvents = take(wsClient.subscribeTx(`tx.hash='${hex(sha256(tx2))}'`), 1, 30000, "the Tx event");
  await sleep(300); // let the subscriptions reach the server
  const s = await client.broadcastTxSync({ tx: tx2 });
  check(s.code === 0 && hex(s.hash) === hex(sha256(tx2)), "broadcastTxSync");
  const [tev] = await txEvents;
  check(hex(tev.hash) === hex(s.hash) && tev.result.code === 0 && Buffer.from(tev.tx).equals(tx2), "Tx event");
  const t2 = await client.tx({ hash: s.hash });
  check(t2.height === tev.height, "Tx event height is the committed height");
  const nb = await blocks;
  check(nb[1].header.height === nb[0].header.height + 1, "NewBlock heights are consecutive");
  const rb = await raw(url0, "block", { height: String(nb[0].header.height) });
  check(hex(nb[0].header.appHash) === rb.block.header.app_hash, "NewBlock header matches /block");
  const [nh] = await headers;
  check(nh.height >= 1 && nh.chainId === CHAIN, "NewBlockHeader");

  log("checking async and refused txs");
  // async, check codes of refused txs, mempool counts
  const tx3 = Buffer.from(makeTx(tmp, "user0", 2, dest, 1), "base64");
  const a = await client.broadcastTxAsync({ tx: tx3 });
  check(hex(a.hash) === hex(sha256(tx3)), "broadcastTxAsync hash");
  const bad = Buffer.from(makeTx(tmp, "user0", 9, dest, 1), "base64");
  const sb = await client.broadcastTxSync({ tx: bad });
  check(sb.code === 3, `bad nonce gives code 3, got ${sb.code}`);
  const nu = await client.numUnconfirmedTxs();
  check(nu.total >= 0 && nu.totalBytes >= 0, "numUnconfirmedTxs");
  let t3 = null;
  for (let i = 0; i < 150 && !t3; i++) {
    try {
      t3 = await client.tx({ hash: a.hash });
    } catch {
      await sleep(200);
    }
  }
  check(t3 && t3.result.code === 0, "async tx committed");
  const fin = await client.abciQuery({ path: "/account", data: Buffer.from(dest, "hex") });
  check(Buffer.from(fin.value).readBigUInt64LE(1) === 17n, "balance 11 + 5 + 1");

  // an error surfaces as a rejected promise with the node's message
  let err = null;
  try {
    await client.block(1e9);
  } catch (e) {
    err = e;
  }
  check(err && /current blockchain height/.test(String(err.message || err)), `error: ${err}`);

  client.disconnect();
  wsClient.disconnect();
  for (const p of procs) process.kill(p.pid, "SIGTERM");
  await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r() : p.once("exit", r)))));
  check(procs.every((p) => p.exitCode === 0), "nodes stopped cleanly");
}

main().then(
  () => {
    console.log(`ok test_cosmjs (${Math.round((Date.now() - t0) / 1000)}s)`);
    cleanup();
    process.exit(0);
  },
  (e) => {
    console.error(e && e.stack ? e.stack : e);
    if (tmp) for (let i = 0; i < 4; i++) {
      const f = path.join(tmp, `node${i}`, "node.log");
      if (fs.existsSync(f)) console.error(`--- node${i} log tail\n` +
        fs.readFileSync(f, "utf8").split("\n").slice(-15).join("\n"));
    }
    console.log(`FAIL test_cosmjs (${Math.round((Date.now() - t0) / 1000)}s)`);
    cleanup();
    process.exit(1);
  });
