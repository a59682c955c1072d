// Checks, in the browser and with the browser's own cryptography (WebCrypto), that
// an audit entry is in the tree its log signed and its witnesses cosigned:
//   - the entry's leaf hash, SHA-256(0x00 || its canonical bytes) (RFC 6962);
//   - its inclusion proof up to the checkpoint's root (RFC 9162, 2.1.3.2);
//   - the checkpoint's Ed25519 signature by the log's key (c2sp.org/signed-note);
//   - the witnesses' timestamped cosignatures (c2sp.org/tlog-cosignature), a quorum of them.
// Written from those specifications, apart from the server's code: a page that
// says "verified" has checked it here. Each element with data-proof names the
// JSON it checks (and data-keys, when the keys are kept apart from it).
"use strict";

const EM_DASH = "\u2014";
const encode = text => new TextEncoder().encode(text);
const fromBase64 = text => Uint8Array.from(atob(text), c => c.charCodeAt(0));
const join = (...parts) => {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  return all;
};
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const sha256 = async bytes => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
const hex = bytes => Array.from(bytes, b => b.toString(16).padStart(2, "0")).join("");

class NotVerified extends Error {}

async function rootFromInclusion(leaf, index, size, path) {
  if (index >= size) throw new NotVerified("the entry lies beyond the checkpoint");
  let fn = index, sn = size - 1, r = leaf;
  const half = n => Math.floor(n / 2);
  for (const p of path) {
    if (sn === 0) throw new NotVerified("the inclusion proof is longer than the tree");
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(join([1], p, r));
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = half(fn); sn = half(sn); }
      }
    } else {
      r = await sha256(join([1], r, p));
    }
    fn = half(fn); sn = half(sn);
  }
  if (sn !== 0) throw new NotVerified("the inclusion proof is shorter than the tree");
  return r;
}

function readNote(note) {
  // a note is its text, a blank line, then signature lines, each ending in a newline (c2sp.org/signed-note)
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) throw new NotVerified("the checkpoint is not a signed note");
  const text = note.slice(0, split + 1);
  const lines = text.split("\n").slice(0, -1);
  if (lines.length < 3 || lines.some(line => !line || /[\u0000-\u001f]/.test(line))) {
    throw new NotVerified("the checkpoint is not three lines or more: origin, size, root");
  }
  if (!/^(0|[1-9][0-9]{0,18})$/.test(lines[1])) throw new NotVerified("the checkpoint's size is not a number");
  const signatures = note.slice(split + 2, -1).split("\n").map(line => {
    const [dash, name, blob, more] = line.split(" ");
    if (dash !== EM_DASH || !name || !blob || more !== undefined) {
      throw new NotVerified("a signature line of the checkpoint is malformed");
    }
    const bytes = fromBase64(blob);
    return {name, keyId: bytes.slice(0, 4), blob: bytes.slice(4)};
  });
  const root = fromBase64(lines[2]);
  if (root.length !== 32) throw new NotVerified("the checkpoint's root is not a SHA-256 hash");
  return {text, origin: lines[0], size: Number(lines[1]), root, signatures};
}

async function keyId(name, kind, publicKey) {
  return (await sha256(join(encode(name + "\n"), [kind], publicKey))).slice(0, 4);
}

async function ed25519(publicKey, signature, message) {
  const key = await crypto.subtle.importKey("raw", publicKey, {name: "Ed25519"}, false, ["verify"]);
  return crypto.subtle.verify({name: "Ed25519"}, key, signature, message);
}

async function signedByLog(note, keys) {
  for (const raw of keys.public_keys) {
    const publicKey = fromBase64(raw);
    const id = await keyId(keys.key_name, 0x01, publicKey);
    for (const s of note.signatures) {
      if (s.name === keys.key_name && same(s.keyId, id) && s.blob.length === 64 &&
          await ed25519(publicKey, s.blob, encode(note.text))) return true;
    }
  }
  return false;
}

async function cosigners(note, vkeys) {
  const found = [];
  for (const vkey of new Set(vkeys)) {  // (a key listed twice counts once)
    // <name>+<hex key ID>+<base64>: the base64 may hold "+" too, so split at the first two only
    const first = vkey.indexOf("+"), second = vkey.indexOf("+", first + 1);
    const [name, idHex, material] = [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
    const raw = fromBase64(material);
    if (raw.length !== 33 || raw[0] !== 0x04) continue;  // (only timestamped cosignature keys)
    const publicKey = raw.slice(1);
    const id = await keyId(name, 0x04, publicKey);
    if (hex(id) !== idHex.toLowerCase()) throw new NotVerified(`the key of witness ${name} does not match its ID`);
    for (const s of note.signatures) {
      if (s.name !== name || !same(s.keyId, id) || s.blob.length !== 72) continue;
      const time = new DataView(s.blob.buffer, s.blob.byteOffset, 8).getBigUint64(0).toString();
      const message = encode(`cosignature/v1\ntime ${time}\n${note.text}`);
      if (await ed25519(publicKey, s.blob.slice(8), message)) {
        found.push({name, at: new Date(Number(time) * 1000)});
        break;
      }
    }
  }
  return found;
}

async function check(data, keys) {
  if (!(keys.quorum >= 1)) throw new NotVerified("no witness vouches for the trail here: none is configured");
  let leaf;
  if (data.canonical) {
    const bytes = fromBase64(data.canonical);
    const entry = JSON.parse(new TextDecoder().decode(bytes));
    if (entry.seq !== data.seq || (data.chain !== undefined && entry.chain !== data.chain)) {
      throw new NotVerified("the entry's bytes name another position in the trail");
    }
    leaf = await sha256(join([0], bytes));
    if (data.leaf_hash && !same(leaf, fromBase64(data.leaf_hash))) {
      throw new NotVerified("the entry's bytes do not hash to the leaf the trail keeps");
    }
  } else {
    leaf = fromBase64(data.leaf_hash);
  }
  const note = readNote(data.checkpoint);
  if (note.size !== data.tree_size) throw new NotVerified("the proof is for another size than the checkpoint's");
  if (data.chain !== undefined && !note.origin.endsWith(`/chain/${data.chain}`)) {
    throw new NotVerified("the checkpoint is another chain's");
  }
  const root = await rootFromInclusion(leaf, data.seq, data.tree_size, (data.proof || data.hashes).map(fromBase64));
  if (!same(root, note.root)) {
    throw new NotVerified("the entry does not hash into the tree the log signed: it is not the entry the trail recorded");
  }
  if (!await signedByLog(note, keys)) throw new NotVerified(`the checkpoint is not signed by ${keys.key_name}`);
  const witnesses = await cosigners(note, keys.witnesses);
  if (witnesses.length < keys.quorum) {
    throw new NotVerified(`${witnesses.length} of the ${keys.quorum} witness cosignatures required`);
  }
  return {note, witnesses};
}

function showFacts(target, canonical) {
  const entry = JSON.parse(new TextDecoder().decode(fromBase64(canonical)));
  target.replaceChildren(...Object.keys(entry).sort().flatMap(name => {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = name.replaceAll("_", " ");
    dd.textContent = typeof entry[name] === "string" ? entry[name] : JSON.stringify(entry[name]);
    return [dt, dd];
  }));
}

async function checkOne(element) {
  const data = JSON.parse(document.getElementById(element.dataset.proof).textContent);
  const keys = element.dataset.keys ? JSON.parse(document.getElementById(element.dataset.keys).textContent) : data;
  const wide = element.tagName === "P";
  try {
    if (!window.crypto || !crypto.subtle) throw new NotVerified("this browser has no WebCrypto here (it needs https or localhost)");
    const {note, witnesses} = await check(data, keys);
    element.className = "proof verified";
    const who = witnesses.map(w => `${w.name} (${w.at.toISOString().slice(0, 16).replace("T", " ")} UTC)`);
    element.textContent = wide
      ? `Verified in your browser: entry ${data.seq} is in the tree of ${note.size} entries that ${keys.key_name} ` +
        `signed, cosigned by ${witnesses.length} witness${witnesses.length === 1 ? "" : "es"}` +
        `${who.length ? ": " + who.join(", ") : ""}.`
      : `in the witnessed trail (${witnesses.length} witness${witnesses.length === 1 ? "" : "es"})`;
    if (element.dataset.facts) showFacts(document.getElementById(element.dataset.facts), data.canonical);
  } catch (error) {
    element.className = "proof failed";
    element.setAttribute("role", "alert");
    const why = error instanceof NotVerified ? error.message : `the check could not run (${error.message})`;
    element.textContent = wide ? `Not verified: ${why}.` : `NOT verified: ${why}`;
  }
  element.dataset.checked = element.className.includes("verified") ? "verified" : "failed";
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-proof]").forEach(element => { checkOne(element); });
});
