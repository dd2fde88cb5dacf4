# Cross-check of the demo's copy-memory finding in PyTorch: same task (T=20, H=32, Embedding 9->8, Adam lr 1e-2,
# batch 32, clip 1), 1000 steps. Run: OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 docs/scripts/copy_task_torch.py
import torch, torch.nn as nn
torch.manual_seed(1); torch.set_num_threads(1)
T=20; H=32; B=32
def batch():
    x=torch.randint(4,8,(B,T)); s=torch.randint(0,4,(B,)); x[:,0]=s; x[:,T-1]=8; return x,s
for cell in ['rnn','lstm','gru']:
    torch.manual_seed(1)
    emb=nn.Embedding(9,8); rnn={'rnn':nn.RNN,'lstm':nn.LSTM,'gru':nn.GRU}[cell](8,H,batch_first=True); head=nn.Linear(H,9)
    ps=list(emb.parameters())+list(rnn.parameters())+list(head.parameters())
    opt=torch.optim.Adam(ps,lr=1e-2)
    for step in range(1000):
        x,s=batch(); y,_=rnn(emb(x)); loss=nn.functional.cross_entropy(head(y[:,-1]),s)
        opt.zero_grad(); loss.backward(); nn.utils.clip_grad_norm_(ps,1.0); opt.step()
    x,s=batch(); 
    with torch.no_grad():
        y,_=rnn(emb(x)); acc=(head(y[:,-1]).argmax(1)==s).float().mean().item()
    print(cell, loss.item(), acc)
