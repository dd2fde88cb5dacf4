#!/usr/bin/env python3
"""Writes nn.LSTM(64, 256, proj_size=128), nn.LSTM(64, 256) and nn.LSTM(64, 128) state_dicts as safetensors into the current folder (no metadata: bench needs --cell lstm)."""
import json, struct, torch, numpy as np
def save(path, sd):
    header, off, blobs = {}, 0, []
    for k, t in sd.items():
        a = t.detach().numpy().astype(np.float32).tobytes()
        header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(a)]}
        off += len(a); blobs.append(a)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h); [f.write(b) for b in blobs]
torch.manual_seed(0)
save("proj.safetensors", torch.nn.LSTM(64, 256, proj_size=128).state_dict())
save("plain.safetensors", torch.nn.LSTM(64, 256).state_dict())
save("plain128.safetensors", torch.nn.LSTM(64, 128).state_dict())
