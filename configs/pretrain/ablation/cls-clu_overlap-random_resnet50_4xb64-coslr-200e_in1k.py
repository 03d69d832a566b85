# Table 4, row 3: L_clu + L_cls, overlap ~ U(0.15, 0.45) (this is MEJigClu).
_base_ = '../mejigclu_resnet50_4xb64-coslr-200e_in1k.py'
