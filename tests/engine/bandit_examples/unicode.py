"""Text that is not ASCII around the calls: «ça», naïve, 東京."""

import os

label = "naïve"
print("«ça»", eval(label))
os.system(label)  # «commentaire» exec(label)
東京 = exec
