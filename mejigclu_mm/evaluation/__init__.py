"""Evaluation of frozen features: weighted kNN, an L-BFGS linear probe, feature extraction, and
the online kNN monitor of a pretraining run (``KNNMonitorHook``)."""
from mejigclu_mm.evaluation.features import extract_features, gather_in_dataset_order, pool_features
from mejigclu_mm.evaluation.frozen_backbone import (RANDOM_INIT, build_frozen_classifier,
                                                    checkpoint_prefix, config_features,
                                                    evaluation_dataloaders)
from mejigclu_mm.evaluation.inference import inference_config, inference_pipeline
from mejigclu_mm.evaluation.knn import knn_accuracy, knn_predict
from mejigclu_mm.evaluation.knn_monitor_hook import KNNMonitorHook
from mejigclu_mm.evaluation.logistic_regression import (DEFAULT_L2_GRID, choose_l2,
                                                        fit_logistic_regression, linear_probe,
                                                        topk_accuracy)

__all__ = [
    'extract_features', 'gather_in_dataset_order', 'pool_features', 'RANDOM_INIT',
    'build_frozen_classifier', 'checkpoint_prefix', 'config_features', 'evaluation_dataloaders',
    'inference_config', 'inference_pipeline', 'knn_accuracy', 'knn_predict', 'KNNMonitorHook',
    'DEFAULT_L2_GRID', 'choose_l2', 'fit_logistic_regression', 'linear_probe', 'topk_accuracy'
]
