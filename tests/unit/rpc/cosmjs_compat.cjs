// Drives cairn's RPC server with @cosmjs/tendermint-rpc 0.39 (unchanged client code).
// Run by test_cosmjs.c: node cosmjs_compat.cjs PORT. Exit 0 when every check holds.
// The server behind PORT is test_cosmjs.c's fake node: blocks 1 and 2 rendered by
// src/rpc/json_chain.c, a status like the node's, and a `publish` method that
// pushes a NewBlockHeader event for block 2.
"use strict";
const { connectComet, Comet38Client } = require("@cosmjs/tendermint-rpc");

const port = process.argv[2];
function check(cond, msg) {
  if (!cond) {
    console.error("FAIL:", msg);
    process.exit(1);
  }
}

async function main() {
  const client = await connectComet(`http://127.0.0.1:${port}`);
  check(client instanceof Comet38Client, "connectComet did not pick the Comet38 dialect");

  const st = await client.status();
  check(st.nodeInfo.network === "cairn-test", `network ${st.nodeInfo.network}`);
  check(st.syncInfo.latestBlockHeight === 2, `latest height ${st.syncInfo.latestBlockHeight}`);
  check(st.syncInfo.latestBlockTime.toISOString() === "2024-06-11T14:07:57.125Z", "latest time");
  check(st.syncInfo.latestBlockTime.nanoseconds === 195170, "nanoseconds kept");
  check(st.validatorInfo.pubkey.algorithm === "ed25519", "validator pubkey");

  const b2 = await client.block(2);
  check(b2.block.header.height === 2, "block 2 height");
  check(b2.block.txs.length === 2 && Buffer.from(b2.block.txs[0]).toString() === "hello", "txs");
  check(b2.block.lastCommit !== null && b2.block.lastCommit.signatures.length === 2, "last commit");
  check(b2.block.lastCommit.signatures[0].blockIdFlag === 2, "commit flag");
  check(b2.block.lastCommit.signatures[1].blockIdFlag === 1, "absent flag");
  check(b2.blockId.hash.length === 32 && b2.blockId.parts.total === 1, "block id");
  check(b2.block.header.lastBlockId !== null, "last block id at height 2");

  const b1 = await client.block(1);
  check(b1.block.header.lastBlockId === null, "height 1 has no last block id");
  check(b1.block.lastCommit === null, "height 1 has no last commit");

  const latest = await client.block();
  check(latest.block.header.height === 2, "latest block");

  const cm = await client.commit(2);
  check(cm.canonical === true && cm.commit.height === 1 && cm.header.height === 2, "commit");

  const vals = await client.validators({ height: 2 });
  check(vals.total === 1 && vals.validators[0].votingPower === 10n, "validators");

  await client.health();

  const r = await client.broadcastTxCommit({ tx: Buffer.from("tx-bytes") });
  check(r.height === 3 && r.hash.length === 32, "broadcast_tx_commit height/hash");
  check(r.checkTx.code === 0 && r.txResult.code === 0, "broadcast_tx_commit codes");

  let failed = false;
  try {
    await client.block(99);
  } catch (e) {
    failed = /not available/.test(String(e));
  }
  check(failed, "error for a missing block reaches the client");
  client.disconnect();

  // WebSocket subscription
  const ws = await connectComet(`ws://127.0.0.1:${port}`);
  const got = new Promise((resolve, reject) => {
    const sub = ws.subscribeNewBlockHeader().subscribe({
      next: (h) => { sub.unsubscribe(); resolve(h); },
      error: reject,
    });
  });
  // let the subscribe request land, then ask the fake node to publish
  await new Promise((res) => setTimeout(res, 300));
  const pub = await fetch(`http://127.0.0.1:${port}/`, {
    method: "POST",
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "publish" }),
  });
  const pubBody = await pub.json();
  check(pubBody.result && pubBody.result.delivered === 1, `publish ${JSON.stringify(pubBody)}`);
  const header = await Promise.race([got, new Promise((_, rej) => setTimeout(() => rej(new Error("no event")), 5000))]);
  check(header.height === 2 && header.chainId === "cairn-test", "NewBlockHeader event");
  ws.disconnect();
}

main().then(() => process.exit(0), (e) => check(false, e && e.stack ? e.stack : String(e)));
