# Table 4, row 1: L_loc + L_clu, overlap 0.3 (this is JigClu).
_base_ = '../jigclu_resnet50_4xb64-coslr-200e_in1k.py'
