// Passkeys (WebAuthn) on the two-factor page and the "Add a passkey" page.
//
// A form marked data-concord-passkey="sign-in" or "register" names, in
// data-concord-passkey-options, the <script type="application/json"> that holds the
// options the server made for this page (with this session's challenge; no inline
// script, for the Content-Security-Policy). When the form is sent, the browser is asked
// for the passkey; its answer goes, as JSON, into the form's hidden "credential" field
// and the form is posted to the server, which verifies it (accounts.services). A
// browser without WebAuthn never shows the passkey part of the two-factor page.

const decode = (text) => {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
};

const encode = (buffer) => {
  if (!buffer) return null;
  const bytes = new Uint8Array(buffer);
  let raw = "";
  for (const byte of bytes) raw += String.fromCharCode(byte);
  return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

const descriptors = (list) => (list || []).map((d) => ({ ...d, id: decode(d.id) }));

function creationOptions(options) {
  return {
    ...options,
    challenge: decode(options.challenge),
    user: { ...options.user, id: decode(options.user.id) },
    excludeCredentials: descriptors(options.excludeCredentials),
  };
}

function requestOptions(options) {
  return { ...options, challenge: decode(options.challenge), allowCredentials: descriptors(options.allowCredentials) };
}

// The credential as py_webauthn reads it (what PublicKeyCredential.toJSON gives, where it exists).
function asJSON(credential) {
  const response = credential.response;
  const json = {
    id: credential.id,
    rawId: encode(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
    response: { clientDataJSON: encode(response.clientDataJSON) },
  };
  if (response.attestationObject) {
    json.response.attestationObject = encode(response.attestationObject);
    json.response.transports = response.getTransports ? response.getTransports() : [];
  } else {
    json.response.authenticatorData = encode(response.authenticatorData);
    json.response.signature = encode(response.signature);
    json.response.userHandle = encode(response.userHandle);
  }
  return json;
}

const MESSAGES = {
  "sign-in": "The passkey was not used. Try again, or enter a code from your authenticator app.",
  register: "The passkey was not created. Try again, or choose another place to keep it.",
};

function start(form) {
  const mode = form.dataset.concordPasskey;
  const source = document.getElementById(form.dataset.concordPasskeyOptions);
  const field = form.querySelector("input[name=credential]");
  const status = form.querySelector("[data-concord-passkey-status]");
  if (!source || !field) return;
  if (!window.PublicKeyCredential || !navigator.credentials) {
    const unsupported = form.querySelector("[data-concord-passkey-unsupported]");
    if (unsupported) unsupported.hidden = false;
    return;
  }
  const section = form.closest("[data-concord-passkey-section]");
  if (section) section.hidden = false;
  const options = JSON.parse(source.textContent);
  let busy = false;
  form.addEventListener("submit", async (event) => {
    if (field.value) return; // the answer is in: post it
    event.preventDefault();
    const name = form.querySelector("input[name=name]");
    if (mode === "register" && name && !name.value.trim()) {
      form.submit(); // the server names the missing field
      return;
    }
    if (busy) return;
    busy = true;
    status.hidden = true;
    try {
      const credential =
        mode === "register"
          ? await navigator.credentials.create({ publicKey: creationOptions(options) })
          : await navigator.credentials.get({ publicKey: requestOptions(options) });
      field.value = JSON.stringify(asJSON(credential));
      form.submit();
    } catch (error) {
      busy = false;
      status.textContent = MESSAGES[mode];
      status.hidden = false;
    }
  });
}

document.querySelectorAll("form[data-concord-passkey]").forEach(start);
