# LSTM on the demo's copy task with a forget-gate bias offset. Usage: /usr/bin/python3 docs/scripts/copy_task_lstm_forget_bias.py T STEPS LR FORGET_BIAS
# (OPENBLAS_CORETYPE=SkylakeX). The offset is added to b_ih's forget block on top of PyTorch's default init.
import torch, torch.nn as nn, sys
torch.set_num_threads(1)
T=int(sys.argv[1]); H=32; B=32; steps=int(sys.argv[2]); lr=float(sys.argv[3]); fb=float(sys.argv[4])
def batch():
    x=torch.randint(4,8,(B,T)); s=torch.randint(0,4,(B,)); x[:,0]=s; x[:,T-1]=8; return x,s
for cell in ['lstm']:
    torch.manual_seed(1)
    emb=nn.Embedding(9,8); rnn=nn.LSTM(8,H,batch_first=True); head=nn.Linear(H,9)
    with torch.no_grad():
        rnn.bias_ih_l0[H:2*H]+=fb
    ps=list(emb.parameters())+list(rnn.parameters())+list(head.parameters())
    opt=torch.optim.Adam(ps,lr=lr)
    for step in range(steps):
        x,s=batch(); y,_=rnn(emb(x)); loss=nn.functional.cross_entropy(head(y[:,-1]),s)
        opt.zero_grad(); loss.backward(); nn.utils.clip_grad_norm_(ps,1.0); opt.step()
    x,s=batch()
    with torch.no_grad():
        y,_=rnn(emb(x)); acc=(head(y[:,-1]).argmax(1)==s).float().mean().item()
    print(sys.argv[1:], cell, round(loss.item(),3), acc)
