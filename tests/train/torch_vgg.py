"""vgg-mini in PyTorch with torchvision's module names (features.N, avgpool, classifier.N), the
same structure pvx's `vgg` plugin builds for arch vgg-mini. Shared by the training reference test
and the training benchmark."""
import torch
from torch import nn


class VggMini(nn.Module):
    def __init__(self, channels, hidden, avgpool, num_classes, in_channels=1, dropout=0.5,
                 batch_norm=False):
        super().__init__()
        layers, c = [], in_channels
        for v in channels:
            if v == -1:
                layers.append(nn.MaxPool2d(2, 2))
                continue
            layers.append(nn.Conv2d(c, v, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU(inplace=True))
            c = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((avgpool, avgpool))
        self.classifier = nn.Sequential(
            nn.Linear(c * avgpool * avgpool, hidden), nn.ReLU(True), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))
