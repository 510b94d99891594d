#!/usr/bin/env python3
"""The small CNN of the transfer recipe's baseline, as a Keras 3 model file Zoo trains from scratch
(`zoo fine-tune scripts/recipe/small-cnn.keras --from-scratch ...`: its weights are not used, only its
architecture; peers/transfer_recipe_torch.py builds the same network in PyTorch):

    Input 28x28x1 -> Rescaling(1/255) -> Conv2D(16, 3x3, same, ReLU) -> MaxPooling2D(2)
      -> Conv2D(32, 3x3, same, ReLU) -> MaxPooling2D(2) -> Flatten -> Dense(10, softmax)

    /work/venv/peers/bin/python scripts/recipe/make_small_cnn.py    # writes scripts/recipe/small-cnn.keras
"""
import os

import keras

keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input((28, 28, 1)),
    keras.layers.Rescaling(1 / 255),
    keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
    keras.layers.MaxPooling2D(2),
    keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
    keras.layers.MaxPooling2D(2),
    keras.layers.Flatten(),
    keras.layers.Dense(10, activation="softmax"),
], name="small_cnn")
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "small-cnn.keras")
model.save(path)
print(f"{path}: {model.count_params()} parameters, keras {keras.__version__}")
