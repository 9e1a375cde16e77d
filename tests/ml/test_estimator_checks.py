"""scikit-learn's ``check_estimator`` on every chunkwise.ml estimator of this part, on NumPy input.

Not checked: ``LabelEncoder`` (a target transformer: ``fit(y)`` on 1-D labels;
``check_estimator`` feeds 2-D ``X``, which scikit-learn's own ``LabelEncoder``
refuses too). No check is skipped for the others.
"""

import warnings

from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from chunkwise.ml import preprocessing
from chunkwise.ml.model_selection import GridSearchCV, RandomizedSearchCV
from chunkwise.ml.wrappers import Incremental, ParallelPostFit

ESTIMATORS = [
    preprocessing.StandardScaler(),
    preprocessing.MinMaxScaler(),
    preprocessing.RobustScaler(),
    preprocessing.OneHotEncoder(),
    preprocessing.OrdinalEncoder(),
    preprocessing.PolynomialFeatures(),
    preprocessing.Categorizer(),
    preprocessing.DummyEncoder(),
    ParallelPostFit(LogisticRegression()),
    Incremental(SGDClassifier(random_state=0), random_state=0),
    # a decision tree fits in microseconds: the searches' checks fit it hundreds of times
    GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [2, None]}, cv=2),
    RandomizedSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [2, None]}, n_iter=2, cv=2,
                       random_state=0),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)
