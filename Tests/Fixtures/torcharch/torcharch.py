"""The PyTorch side of Zoo's built-in architectures (Sources/ZooKit/Architectures): builds each
catalog model with the peers' own classes, randomizes it and runs it. Shared by
make_fixtures.py (small configurations, committed) and scripts/parity/torch_archs.py (full size).

Randomization: build() runs PyTorch's own initializers after torch.manual_seed(0); randomize() then, from
torch.manual_seed(1234), in module order, sets every
nn.Linear weight and bias ~ U(±1/sqrt(in)) (torchvision's N(0, 0.01) would leave logits ~0.01), every
other bias += N(0, 0.05); BatchNorm weight ~ 1 + N(0, 0.1), bias ~ N(0, 0.1); nn.PReLU slopes ~ U(0.05, 0.5).
BatchNorm running statistics are *calibrated*: one eval-mode pass over 8 seeded calibration images
(not the test input) in which each BN, when reached, takes the per-channel mean m and (biased)
variance v of its actual input (every earlier layer already final) and sets
running_mean = m + N(0, 0.1)·sqrt(v), running_var = v·U(0.5, 1.5). So no BN is the identity and the
logits still depend on the input (random BN statistics drawn without regard to the activations make
the deep nets' outputs constant or explode).

With half=True every floating tensor of the state dict is rounded to float16 first (the model then
computes with the rounded values) and the state dict is saved as float16, halving the fixture files.
"""
import numpy as np
import torch
import torchvision
from torch import nn


def small_vgg_cfg(cfg):
    """torchvision's VGG configuration with channels divided by 16 (64 → 4, 512 → 32)."""
    return [v if v == "M" else v // 16 for v in cfg]


def build(name, classes=1000, width=1.0, small=False, seed=0):
    """The torch module for catalog name `name`, its initializers seeded with `seed`. small=True: the
    reduced configuration the committed fixtures use where the full one is too large to commit
    (see make_fixtures.py)."""
    torch.manual_seed(seed)
    tv = torchvision.models
    if name in ("mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large"):
        return getattr(tv, name)(num_classes=classes, width_mult=width)
    if name.startswith("resnet") or name in ("squeezenet1_1",):
        return getattr(tv, name)(num_classes=classes)
    if name == "efficientnet_b0":
        if not small:
            return tv.efficientnet_b0(num_classes=classes)
        from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf
        setting, last = _efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=1.0)
        return EfficientNet(setting, 0.2, num_classes=classes, last_channel=last)
    if name in ("vgg11", "vgg11_bn", "vgg16"):
        if not small:
            return getattr(tv, name)(num_classes=classes)
        from torchvision.models.vgg import VGG, cfgs, make_layers
        cfg = small_vgg_cfg(cfgs["D" if name == "vgg16" else "A"])
        model = VGG(make_layers(cfg, batch_norm=name.endswith("_bn")), num_classes=classes)
        hidden = 32  # torchvision's classifier, with 32 instead of 4096 and the small map's channels
        model.classifier = nn.Sequential(
            nn.Linear(cfg[-2] * 7 * 7, hidden), nn.ReLU(True), nn.Dropout(0.5),
            nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(hidden, classes))
        return model
    if name == "densenet121":
        if not small:
            return tv.densenet121(num_classes=classes)
        from torchvision.models.densenet import DenseNet
        return DenseNet(growth_rate=8, block_config=(2, 3, 4, 2), num_init_features=16, bn_size=2, num_classes=classes)
    if name == "efficientnet_lite0":
        from efficientnet_lite_pytorch import EfficientNet
        return EfficientNet.from_name("efficientnet-lite0", num_classes=classes)
    if name in ("pnet", "rnet", "onet"):
        from facenet_pytorch.models import mtcnn
        return {"pnet": mtcnn.PNet, "rnet": mtcnn.RNet, "onet": mtcnn.ONet}[name](pretrained=False)
    raise ValueError(f"unknown architecture {name}")


def randomize(model, calibration, seed=1234, half=False):
    """Seeded random weights and calibrated BN statistics (module docstring); eval mode."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.weight.copy_(1 + 0.1 * torch.randn_like(module.weight))
                module.bias.copy_(0.1 * torch.randn_like(module.bias))
            elif isinstance(module, nn.PReLU):
                module.weight.copy_(torch.empty_like(module.weight).uniform_(0.05, 0.5))
            elif isinstance(module, nn.Linear):
                bound = module.in_features ** -0.5  # PyTorch's default Linear range (torchvision's 0.01 hides errors)
                module.weight.uniform_(-bound, bound)
                module.bias.uniform_(-bound, bound)
            elif getattr(module, "bias", None) is not None and isinstance(module.bias, torch.Tensor):
                module.bias.add_(0.05 * torch.randn_like(module.bias))
    model.eval()

    def calibrate(module, inputs):
        x = inputs[0]
        mean = x.mean(dim=(0, 2, 3))
        var = x.var(dim=(0, 2, 3), unbiased=False)
        module.running_mean.copy_(mean + 0.1 * torch.randn_like(mean) * var.sqrt())
        module.running_var.copy_(var * torch.empty_like(var).uniform_(0.5, 1.5))
        if half:
            module.running_mean.copy_(module.running_mean.half().float())
            module.running_var.copy_(module.running_var.half().float())

    hooks = [m.register_forward_pre_hook(calibrate) for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if half:
        round_to_half(model)
    with torch.no_grad():
        model(calibration)
    for h in hooks:
        h.remove()
    if half:
        round_to_half(model)
    return model


def round_to_half(model):
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                t.copy_(t.half().float())


def state_dict(model, half=False):
    sd = model.state_dict()
    return {k: (v.half() if half and v.is_floating_point() else v) for k, v in sd.items()}


def outputs(model, x):
    """The module's forward outputs as a list of numpy arrays (one or several)."""
    with torch.no_grad():
        y = model(x)
    ys = list(y) if isinstance(y, (tuple, list)) else [y]
    return [t.detach().numpy().astype(np.float32) for t in ys]


def count(model):
    """(parameters, state-dict values without num_batches_tracked), as ArchitectureTests counts."""
    params = sum(p.numel() for p in model.parameters())
    state = sum(v.numel() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked"))
    return params, state
